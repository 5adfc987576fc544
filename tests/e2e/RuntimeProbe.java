// SPDX-License-Identifier: LGPL-2.1-or-later
// What the JVM believes of the machine it runs on: compiled into the runtimes rootfs
// (tests/e2e/lib/rootfs.sh) and run inside containers by tests/e2e/test-runtimes.sh.
public class RuntimeProbe {
    public static void main(String[] args) {
        Runtime runtime = Runtime.getRuntime();
        System.out.println("availableProcessors=" + runtime.availableProcessors() + " maxMemory=" + runtime.maxMemory());
    }
}
