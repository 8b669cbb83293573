"""The term's statistics report (事业统计上报), confirmed level by level."""
