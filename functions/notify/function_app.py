"""Azure Functions entry point: masks the process's logs, then registers blueprints."""

import azure.functions as func

from intake_core.logs import mask_every_record
from intake_notify.function import blueprint

# The Functions host owns the log handlers (its own one sends records to Application Insights),
# so the records themselves are masked rather than configure_logging's handler installed.
mask_every_record()
app = func.FunctionApp()
app.register_functions(blueprint)
