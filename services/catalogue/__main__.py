from services.catalogue.bootstrap import bootstrap
from shared.serve import serve

serve(bootstrap)
