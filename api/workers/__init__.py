"""Workers: the dramatiq broker (in-process or Redis), the janitor that recovers jobs, and the
``kizuna worker`` entry point."""
