"""The archive's PDFs (ReportLab with an embedded TrueType CJK font): the certificate of
registration and the electronic file."""
