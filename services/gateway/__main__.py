from services.gateway.bootstrap import bootstrap
from shared.serve import serve

serve(bootstrap)
