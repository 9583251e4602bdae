/** The berth CLI's own version (`berth version`, `berth --version`); kept apart so `--version` loads nothing else. */
export const CLIENT_VERSION = '0.1.0';
