"""The agenda service: organisers' meetings and programmes."""
