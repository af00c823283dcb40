"""Pure shop rules: no boto3, chalice or stripe in here."""
