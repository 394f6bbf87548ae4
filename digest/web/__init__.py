"""The public web app: sign-up and confirmation, unsubscribe, preferences, provider webhooks."""
