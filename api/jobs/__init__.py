"""Jobs: the database holds the truth about long work; the queue only wakes workers."""
