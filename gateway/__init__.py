"""The HTTP gateway: notes in over HTTP, chained through the structurer and the image service."""
