"""Identity and duplicates: the population roll, L numbers, 一人多籍 and 有人无籍."""
