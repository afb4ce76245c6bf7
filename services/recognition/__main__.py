from services.recognition.bootstrap import bootstrap
from shared.serve import serve

serve(bootstrap)
