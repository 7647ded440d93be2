"""What every stage shares, with no Dagster and no stage behind it: settings from the environment, the warehouse
connection (one writer), running SQL files in transactions, registering Arrow frames, masking personal data, and the
crash tests' kill points."""
