from services.assessment.bootstrap import bootstrap
from shared.serve import serve

serve(bootstrap)
