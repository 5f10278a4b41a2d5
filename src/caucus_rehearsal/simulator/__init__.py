"""The model: scenario, roster, truth, and the SimPy night.

Imports nothing from the other packages of the project and never imports locust.
"""
