"""What time itself triggers: the jobs, their runs, the scheduler, and which process runs them."""
