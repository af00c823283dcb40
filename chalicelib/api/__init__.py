"""HTTP entry points: blueprints that authorize, validate, call one service and render."""
