"""The image service: image jobs in, one PNG per job out, under one service-wide concurrency limit."""
