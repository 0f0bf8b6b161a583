"""`pingen probe`: a TLS test endpoint that proves whether an app really pins."""
