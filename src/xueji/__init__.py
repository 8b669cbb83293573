"""Xueji: the national registry of primary and secondary students' status (学籍)."""
