/** Environment variable naming the folder where test workers collect skipped checks. */
exports.SKIP_DIR_ENV = 'MATRIX_PLATFORM_SKIPPED_CHECKS_DIR';
