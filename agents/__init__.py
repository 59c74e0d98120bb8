"""The retraining agent: decides when to retrain, trains challengers, promotes only better ones."""
