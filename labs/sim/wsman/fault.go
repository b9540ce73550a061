package wsman

import (
	"fmt"
	"strconv"
)

// WS-Management error codes Windows puts in WSManFault/@Code.
const (
	CodeAccessDenied        = 2147942405 // 0x80070005, E_ACCESSDENIED
	CodeResourceNotFound    = 2150858752 // 0x80338000
	CodeInvalidActionURI    = 2150858753 // 0x80338001
	CodeOperationTimeout    = 2150858793 // 0x80338029
	CodeMaxEnvelopeSize     = 2150858823 // 0x80338047
	CodeShellNotFound       = 2150858843 // 0x8033805B
	CodeMaxShellsPerUser    = 2150859173 // 0x803381A5
	CodeInvalidParameter    = 2147942487 // 0x80070057, E_INVALIDARG
	CodeInternalError       = 2147942606 // 0x800700CE, as in Windows' ProviderFault samples
	CodeEncodingLimit       = 2150858824 // 0x80338048, response over MaxEnvelopeSize
	defaultFaultMachineName = "localhost"
)

// Fault is a SOAP fault with the WS-Management detail Windows adds. The server
// answers it with HTTP 500, as Windows does.
type Fault struct {
	Code    string // SOAP code value: "s:Sender" or "s:Receiver"
	Subcode string // WS-Management subcode, e.g. "w:InvalidSelectors"
	Reason  string // human-readable reason, also the WSManFault message
	WSMan   uint32 // the WSManFault Code attribute, e.g. CodeShellNotFound
	// Provider, when set, wraps the message in a ProviderFault element the way
	// the Windows Remote Shell plug-in reports command failures.
	Provider string
}

// Error describes the fault with its subcode and WS-Management code.
func (f *Fault) Error() string {
	return fmt.Sprintf("ws-management fault %s (%d): %s", f.Subcode, f.WSMan, f.Reason)
}

// FaultAccessDenied is the fault Windows returns when the authenticated user
// may not use the resource.
func FaultAccessDenied() *Fault {
	return &Fault{Code: "s:Sender", Subcode: "w:AccessDenied", WSMan: CodeAccessDenied,
		Reason: "Access is denied. "}
}

// FaultTimedOut is the fault a Receive gets when no output arrived within the
// request's OperationTimeout. Clients recognise it by its code and by the word
// OperationTimeout in the reason, and poll again.
func FaultTimedOut() *Fault {
	return &Fault{Code: "s:Receiver", Subcode: "w:TimedOut", WSMan: CodeOperationTimeout,
		Reason: "The WS-Management service cannot complete the operation within the " +
			"time specified in OperationTimeout.  "}
}

// FaultShellNotFound is the fault for a ShellId selector naming no shell.
func FaultShellNotFound(shellID string) *Fault {
	return &Fault{Code: "s:Sender", Subcode: "w:InvalidSelectors", WSMan: CodeShellNotFound,
		Reason: "The request for the Windows Remote Shell with ShellId " + shellID +
			" failed because the shell was not found on the server. Possible causes are: " +
			"the specified ShellId is incorrect or the shell no longer exists on the " +
			"server. Provide the correct ShellId or create a new shell and retry the " +
			"operation. "}
}

// FaultQuota is the fault for a Create beyond the user's shell quota.
func FaultQuota(max int) *Fault {
	return &Fault{Code: "s:Receiver", Subcode: "w:QuotaLimit", WSMan: CodeMaxShellsPerUser,
		Reason: "The WS-Management service cannot process the request. This user is " +
			"allowed a maximum number of " + strconv.Itoa(max) + " concurrent shells, " +
			"which has been exceeded. Close existing shells or raise the quota for " +
			"this user. "}
}

// FaultInternalError is the fault the shell plug-in returns when a command
// cannot be started, carrying msg as its ProviderFault.
func FaultInternalError(msg string) *Fault {
	return &Fault{Code: "s:Receiver", Subcode: "w:InternalError", WSMan: CodeInternalError,
		Reason: msg, Provider: "Shell cmd plugin"}
}

func faultActionNotSupported(action string) *Fault {
	return &Fault{Code: "s:Sender", Subcode: "a:ActionNotSupported", WSMan: CodeInvalidActionURI,
		Reason: "The WS-Management service cannot process the request. The WS-Addressing " +
			"action URI is invalid. " + action}
}

func faultResourceNotFound() *Fault {
	return &Fault{Code: "s:Sender", Subcode: "w:DestinationUnreachable",
		WSMan: CodeResourceNotFound,
		Reason: "The WS-Management service cannot process the request. The service " +
			"cannot find the resource identified by the resource URI and selectors. "}
}

func faultInvalidParameter(detail string) *Fault {
	return &Fault{Code: "s:Sender", Subcode: "w:InvalidParameter", WSMan: CodeInvalidParameter,
		Reason: "The parameter is incorrect. " + detail}
}

func faultEnvelopeSize() *Fault {
	return &Fault{Code: "s:Sender", Subcode: "w:EncodingLimit", WSMan: CodeMaxEnvelopeSize,
		Reason: "The WS-Management service cannot process the request because the " +
			"envelope size in the request is too large. "}
}
