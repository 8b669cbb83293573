"""The archive's writes, one module a job: certificates, the growth record, the fitness test,
the electronic files."""
