"""The services a :class:`workflow.api.Workflow` is made of: each decides, the store reads and writes."""
