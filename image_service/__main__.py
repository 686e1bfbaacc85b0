from image_service.server import run

run()
