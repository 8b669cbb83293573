"""The school system's pages, one module per task: the registry of schools (registry.py) and the
set-up of years and classes (classes.py)."""
