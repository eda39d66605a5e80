"""HTTP and WebSocket surfaces. Each module exposes ``create_blueprint(state)``."""
