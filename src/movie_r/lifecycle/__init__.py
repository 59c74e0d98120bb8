"""The model lifecycle: training and tuning, evaluation, promotion and rollback, runtime telemetry.

Imports every layer below it; nothing imports it but the command line and the services."""
