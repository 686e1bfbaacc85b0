from structurer_service.server import run

run()
