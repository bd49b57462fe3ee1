package koji

// PyTypeName names a decoded XML-RPC value's Python type ("int", "str",
// "NoneType"...), for error messages worded as Python's.
func PyTypeName(v any) string { return pyTypeName(v) }

// PyRepr is Python's repr() of a decoded XML-RPC value.
func PyRepr(v any) string { return pyRepr(v) }

// ParseTaskParams is koji.tasks.parse_task_params: a task's request
// (positional arguments, with a trailing keyword struct) by the
// parameter names of its method's handler.
func ParseTaskParams(method string, params []any) (map[string]any, error) {
	return parseTaskParams(method, params)
}
