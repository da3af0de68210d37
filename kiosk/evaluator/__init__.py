"""Evaluators (评价器) by each window: the Kivy tablet app and the RS-485 key box, both over the bus."""
