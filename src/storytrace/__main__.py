from storytrace.cli import app

app(prog_name="storytrace")
