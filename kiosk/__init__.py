"""Everything that runs on the hall floor: kiosk, displays, printer agent, evaluator, hardware."""
