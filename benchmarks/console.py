"""What the web console costs: how long its clusters page takes to draw 100 nodes once their data
has arrived (read in the browser with the Performance API: the page marks the data's arrival and
measures to the drawn list), and serve's idle CPU with no browser open, before any console session
and after one (a session leaves nothing running).

20 clusters of 1 primary and 4 replicas (100 nodes, plain), metrics every 10 s (the default), in
headless Debian chromium through chromium-driver.

Usage: MEMORYPLANE_BINARY=.build/release/memoryplane python3 benchmarks/console.py [--clusters 20] [--window 20]
"""
import argparse
import os
import statistics
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
import memoryplane  # noqa: E402
from benchlib import cpu_seconds  # noqa: E402


def idle_cpu_percent(pid, window):
    before = cpu_seconds(pid)
    time.sleep(window)
    return (cpu_seconds(pid) - before) / window * 100


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--window", type=int, default=20)
    arguments = parser.parse_args()
    server = memoryplane.Server(ports=arguments.clusters * 6 + 20)
    try:
        server.start()
        names = [f"console-{index:02d}" for index in range(arguments.clusters)]
        for name in names:
            assert server.create_cluster(name, shards=1, replicas=4).status_code in (200, 202), name
        for name in names:
            server.wait_for(name, "available", timeout=300)
        nodes = sum(len(shard["nodes"]) for name in names for shard in server.request("GET", f"/v1/clusters/{name}").json()["shards"])
        # The creations' own work (bootstraps, first metrics) done before the idle window.
        time.sleep(20)
        pid = server.process.pid
        idle_before = idle_cpu_percent(pid, arguments.window)

        driver = browser()
        try:
            key_id, secret = server.credentials
            driver.get(server.url + "/console/")
            wait = WebDriverWait(driver, 60, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException])
            wait.until(lambda _: driver.find_element(By.ID, "sign-in").is_displayed())
            driver.find_element(By.NAME, "accessKeyId").send_keys(key_id)
            driver.find_element(By.NAME, "secretAccessKey").send_keys(secret)
            driver.find_element(By.CSS_SELECTOR, "#sign-in button[type=submit]").click()
            wait.until(lambda _: len(driver.find_elements(By.CSS_SELECTOR, "[data-cluster]")) == len(names))
            time.sleep(10)
            renders = driver.execute_script("return performance.getEntriesByName('clusters-render').map((entry) => entry.duration)")
        finally:
            driver.quit()
        idle_after = idle_cpu_percent(pid, arguments.window)

        first = renders[0]
        print(f"clusters page, {len(names)} clusters / {nodes} nodes, {memoryplane.BINARY}:")
        print(f"  first draw after the data arrived: {first:.1f} ms; every later refresh (compare, redraw what changed): "
              f"median {statistics.median(renders[1:] or renders):.1f} ms, max {max(renders):.1f} ms over {len(renders)} refreshes")
        print(f"  serve's idle CPU over {arguments.window} s: {idle_before:.2f} % before any console session, "
              f"{idle_after:.2f} % after one was opened and its browser closed")
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
