"""What the kiosk screen shows during face check-in (step key → Chinese text)."""

from __future__ import annotations

FALLBACK = "，将仅凭身份证继续办理"

PREPARE = "正在准备人脸核验，请稍候"
LOOK = "请正对摄像头"
ONE_PERSON = "请一人刷脸"
CENTRE = "请将面部移到画面中央"
CLOSER = "请靠近一些"
HOLD = "请保持不动"
TURN = {"left": "请缓慢向左转头", "right": "请缓慢向右转头"}
BLINK = "请眨眼"
VERIFYING = "正在与身份证照片比对，请稍候"

PASSED = "人脸核验通过"
NO_ID_PHOTO = "未读取到身份证照片，无法进行人脸核验，请刷身份证办理"
BAD_ID_PHOTO = "身份证照片无法用于人脸核验" + FALLBACK
NO_FACE = "未检测到清晰的人脸" + FALLBACK
SEVERAL_FACES = "画面中有多张人脸" + FALLBACK
LIVENESS_FAILED = "活体检测未通过" + FALLBACK
FACE_CHANGED = "核验过程中人脸发生变化" + FALLBACK
MISMATCH = "人脸核验未通过" + FALLBACK
TIMEOUT = "人脸核验超时" + FALLBACK
CAMERA_FAILED = "摄像头无画面" + FALLBACK
CANCELLED = "已取消人脸核验"
ERROR = "人脸核验暂不可用" + FALLBACK
