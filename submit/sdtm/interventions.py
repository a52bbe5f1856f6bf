"""SDTM mapping algorithms: interventions, history and vital signs (CM, PR, MH, VS), registered on
import. Their visits (`fixed_visit`) are numbered by the visit schedule (`visits.py`)."""
