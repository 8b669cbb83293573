"""Money that follows the record: per-student funding, student aid, nutrition meals and the
consistency checks that catch fraud."""
