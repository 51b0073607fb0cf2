"""Writes pricing/memorydb-sample.json: a MemoryDB price list in AWS's Price List offer-file
format (products, OnDemand and Reserved terms), with ILLUSTRATIVE rates, not AWS's.

This machine cannot reach AWS's Price List API, so the bundled default cannot be a copy of
AWS's list. Replace it with AWS's own offer file (`memoryplane serve --price-list FILE`):
https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonMemoryDB/current/us-east-1/index.json

Rates: a price per normalized unit-hour per family (AWS's size units: small 1, medium 2,
large 4, xlarge 8, ...), reservations as fractions of on-demand.
Usage: python3 scripts/make-sample-price-list.py > pricing/memorydb-sample.json
"""
import hashlib
import json

WRITTEN = "2026-12-08"
REGIONS = {"us-east-1": "US East (N. Virginia)"}
UNITS = {"small": 1, "medium": 2, "large": 4, "xlarge": 8, "2xlarge": 16, "4xlarge": 32, "8xlarge": 64, "12xlarge": 96, "16xlarge": 128}
FAMILIES = {"db.t4g": 0.0505, "db.r6g": 0.0993, "db.r7g": 0.1043, "db.r6gd": 0.1342}
SIZES = {"db.t4g": ["small", "medium"], "db.r6g": ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
         "db.r7g": ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"],
         "db.r6gd": ["xlarge", "2xlarge", "4xlarge", "8xlarge"]}
RESERVED = ["db.r6g", "db.r7g", "db.r6gd"]
# (lease, hours, purchase option, upfront as a fraction of on-demand over the term, hourly as a fraction of on-demand)
TERMS = [("1yr", 8760, "No Upfront", 0.0, 0.70), ("1yr", 8760, "Partial Upfront", 0.32, 0.32), ("1yr", 8760, "All Upfront", 0.62, 0.0),
         ("3yr", 26280, "No Upfront", 0.0, 0.55), ("3yr", 26280, "Partial Upfront", 0.24, 0.24), ("3yr", 26280, "All Upfront", 0.46, 0.0)]


def code(*parts, length=16):
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest().upper()
    return "".join(c for c in digest if c.isalnum())[:length]


def money(value):
    return f"{value:.10f}"


products, on_demand, reserved = {}, {}, {}
for region, location in REGIONS.items():
    for family, unit_price in FAMILIES.items():
        for size in SIZES[family]:
            node_type = f"{family}.{size}"
            hourly = round(unit_price * UNITS[size], 4)
            sku = code(region, node_type)
            products[sku] = {"sku": sku, "productFamily": "Amazon MemoryDB", "attributes": {
                "servicecode": "AmazonMemoryDB", "location": location, "locationType": "AWS Region", "regionCode": region,
                "instanceType": node_type, "engine": "Redis", "usagetype": f"USE1-NodeUsage:{node_type}", "operation": "CreateCluster"}}
            term = code(sku, "ondemand", length=10)
            on_demand[sku] = {f"{sku}.{term}": {"offerTermCode": term, "sku": sku, "effectiveDate": f"{WRITTEN}T00:00:00Z", "termAttributes": {},
                                                "priceDimensions": {f"{sku}.{term}.6YS6EN2CT7": {
                                                    "rateCode": f"{sku}.{term}.6YS6EN2CT7", "unit": "Hrs", "pricePerUnit": {"USD": money(hourly)},
                                                    "description": f"${hourly} per On Demand {node_type} node hour", "beginRange": "0",
                                                    "endRange": "Inf", "appliesTo": []}}}}
            if family not in RESERVED:
                continue
            reserved[sku] = {}
            for lease, hours, option, upfront_fraction, hourly_fraction in TERMS:
                term = code(sku, lease, option, length=10)
                dimensions = {f"{sku}.{term}.6YS6EN2CT7": {
                    "rateCode": f"{sku}.{term}.6YS6EN2CT7", "unit": "Hrs", "pricePerUnit": {"USD": money(round(hourly * hourly_fraction, 4))},
                    "description": f"{node_type} reserved node hours ({lease}, {option})", "beginRange": "0", "endRange": "Inf", "appliesTo": []}}
                if upfront_fraction:
                    dimensions[f"{sku}.{term}.2TG2D8R56U"] = {
                        "rateCode": f"{sku}.{term}.2TG2D8R56U", "unit": "Quantity",
                        "pricePerUnit": {"USD": money(round(hourly * hours * upfront_fraction, 2))}, "description": "Upfront Fee", "appliesTo": []}
                reserved[sku][f"{sku}.{term}"] = {"offerTermCode": term, "sku": sku, "effectiveDate": f"{WRITTEN}T00:00:00Z",
                                                  "termAttributes": {"LeaseContractLength": lease, "OfferingClass": "standard", "PurchaseOption": option},
                                                  "priceDimensions": dimensions}

print(json.dumps({
    "formatVersion": "v1.0",
    "disclaimer": (f"MemoryPlane's SAMPLE price list, written {WRITTEN} by scripts/make-sample-price-list.py with ILLUSTRATIVE rates: "
                   "not AWS's prices (MemoryPlane could not reach AWS's Price List API when it was made). Replace it with AWS's offer file "
                   "(memoryplane serve --price-list FILE): "
                   "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonMemoryDB/current/us-east-1/index.json"),
    "offerCode": "AmazonMemoryDB", "version": WRITTEN.replace("-", "") + "000000", "publicationDate": f"{WRITTEN}T00:00:00Z",
    "products": products, "terms": {"OnDemand": on_demand, "Reserved": reserved}}, indent=1, sort_keys=True))
