"""Signals of key-data corrections, for capabilities that keep copies of key data (the archive's
certificates): sent inside the correction's transaction, once the record has changed."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with student_id, correction_id, fields (the names corrected) and actor.
key_data_corrected = Signal()
