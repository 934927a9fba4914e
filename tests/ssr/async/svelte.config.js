// The async suite of the differential test: every fixture compiles with experimental.async.
export default {
	compilerOptions: {
		experimental: { async: true }
	}
};
