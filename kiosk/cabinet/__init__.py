"""证照自助领取柜: lockers on an RS-485 controller board, opened for the ID card read on the cabinet."""
