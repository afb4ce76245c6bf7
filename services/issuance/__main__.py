from services.issuance.bootstrap import bootstrap
from shared.serve import serve

serve(bootstrap)
