from services.enrolment.bootstrap import bootstrap
from shared.serve import serve

serve(bootstrap)
