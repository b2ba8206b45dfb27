"""The ministry's dashboard: who takes part in a process, from where, when and at which workshop."""
