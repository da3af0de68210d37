"""Sample documents of every kind (the demo hall's wording), for previews, demos and tests."""

from __future__ import annotations

from typing import Any

HALL_NAME = "南山区政务服务中心"

SAMPLES: dict[str, dict[str, Any]] = {
    "ticket": {
        "hall_name": HALL_NAME,
        "ticket": "A012",
        "group_name": "公安服务",
        "item_name": "内地居民前往港澳通行证签发及再次签注（个人旅游、探亲、商务）",
        "priority": "green",
        "waiting_ahead": 5,
        "estimated_wait_min": 25,
        "issued_at": "2026-11-23T09:05:12+08:00",
        "masked_name": "张*三",
        "qr": "http://hall.test:8000/m/t/7pQkVx2mZr9sLw4nB8cD1A",
        "notice": "请留意叫号；过号可在30分钟内重新排队",
    },
    "receipt": {
        "hall_name": HALL_NAME,
        "item_name": "住房公积金提取（购买自住住房）",
        "serial_no": "11440305MB2C920514440305001202611230007",
        "acceptor": "李*华",
        "masked_name": "王*明",
        "received_at": "2026-11-23T10:42:00+08:00",
        "window_name": "12号窗口",
        "promised_date": "2026-11-27",
        "materials_received": [
            {"name": "居民身份证", "kind": "原件", "copies": 0},
            {"name": "购房合同及购房发票", "kind": "复印件", "copies": 1},
        ],
        "materials_to_supplement": [
            {"name": "不动产权证书", "kind": "复印件", "copies": 1, "note": "尚未办妥的可提供网签备案证明"},
        ],
        "supplement_deadline": "2026-12-07",
        "query_code": "482913",
        "qr": "http://hall.test:8000/m/case?serial=11440305MB2C920514440305001202611230007&code=482913",
    },
    "notice": {
        "hall_name": HALL_NAME,
        "item_name": "个体工商户设立登记",
        "masked_name": "陈*芳",
        "materials": [
            {"name": "经营场所使用证明", "note": "租赁的须提供租赁合同及出租方产权证明复印件"},
            {"name": "个体工商户登记（备案）申请书", "note": "须经营者本人签字"},
            {"name": "委托书及受托人身份证明", "note": "委托他人办理时提供"},
        ],
        "deadline": "2026-12-07",
        "window_name": "5号窗口",
        "staff": "刘*",
        "phone": "0755-26600000",
        "issued_at": "2026-11-23T14:20:00+08:00",
        "qr": "http://hall.test:8000/guide/business-001",
    },
    "guide": {
        "hall_name": HALL_NAME,
        "item_name": "普通护照签发",
        "conditions": ["中国公民因前往外国定居、探亲、学习、就业、旅行、从事商务活动等非公务原因出国"],
        "materials": [
            {"name": "居民身份证", "kind": "原件", "copies": 0, "note": "现场核验"},
            {"name": "近期免冠彩色照片", "kind": "原件", "copies": 1, "note": "可现场采集"},
            {"name": "原护照", "kind": "原件", "copies": 1, "note": "换发、补发时提供"},
        ],
        "time_limit": "法定15个工作日，承诺7个工作日",
        "fee": "￥120.00/本",
        "location": "一楼公安服务区 1—4号窗口",
        "phone": "0755-26600000",
        "qr": "http://hall.test:8000/guide/exit-001",
    },
    "booking": {
        "hall_name": HALL_NAME,
        "code": "K7M2Q9XA",
        "item_name": "居住证申领",
        "slot_start": "2026-11-24T10:00:00+08:00",
        "slot_end": "2026-11-24T10:30:00+08:00",
        "checkin_from": "2026-11-24T09:30:00+08:00",
        "checkin_until": "2026-11-24T10:15:00+08:00",
        "masked_name": "张*三",
        "qr": "http://hall.test:8000/m/guide/11440300MB2D41730K000172102000000",
        "notice": "请按时携带身份证到大厅自助机或咨询台签到",
    },
}
