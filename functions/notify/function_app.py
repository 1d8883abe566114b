"""Azure Functions entry point: only registers blueprints."""

import azure.functions as func

from intake_notify.function import blueprint

app = func.FunctionApp()
app.register_functions(blueprint)
