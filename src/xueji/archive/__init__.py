"""The child's archive: growth record, fitness test, electronic file and verifiable certificates."""
