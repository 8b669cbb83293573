"""Daily attendance, school buses and dropout control (控辍保学)."""
