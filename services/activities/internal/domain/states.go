package domain

import (
	"github.com/tjsia/chapterhouse/platform/apierr"
	activitiesv1 "github.com/tjsia/chapterhouse/proto/gen/go/chapterhouse/activities/v1"
)

// What each state allows, as the REST verbs of the methods (the API's
// action terms): a refused action names its state and these, so the
// caller reads what can be done instead (INVALID_STATE_TRANSITION's
// "allowed"). A final state allows nothing.

// ActivityActions are the actions an activity in state allows.
func ActivityActions(state activitiesv1.ActivityState) []string {
	switch state {
	case activitiesv1.ActivityState_ACTIVITY_STATE_DRAFT:
		return []string{"update", "publish", "cancel"}
	case activitiesv1.ActivityState_ACTIVITY_STATE_PUBLISHED:
		return []string{"update", "register", "cancel", "complete"}
	}
	return nil
}

// RegistrationActions are the actions a registration in state allows. A
// cancelled registration is reopened by registering again.
func RegistrationActions(state activitiesv1.RegistrationState) []string {
	switch state {
	case activitiesv1.RegistrationState_REGISTRATION_STATE_CONFIRMED:
		return []string{"cancel", "checkIn"}
	case activitiesv1.RegistrationState_REGISTRATION_STATE_WAITLISTED:
		return []string{"cancel"}
	case activitiesv1.RegistrationState_REGISTRATION_STATE_CANCELLED:
		return []string{"register"}
	}
	return nil
}

// CertificateActions are the actions a certificate in state allows.
func CertificateActions(state activitiesv1.CertificateState) []string {
	if state == activitiesv1.CertificateState_CERTIFICATE_STATE_VALID {
		return []string{"revoke"}
	}
	return nil
}

// ActivityTransition refuses action on a, naming its state and what the
// state allows.
func ActivityTransition(a *activitiesv1.Activity, action string) error {
	return apierr.InvalidTransition(a.GetName(), action, a.GetState().String(), ActivityActions(a.GetState())...)
}

// RegistrationTransition refuses action on the registration name in state.
func RegistrationTransition(name string, state activitiesv1.RegistrationState, action string) error {
	return apierr.InvalidTransition(name, action, state.String(), RegistrationActions(state)...)
}

// CertificateTransition refuses action on c.
func CertificateTransition(c *activitiesv1.Certificate, action string) error {
	return apierr.InvalidTransition(c.GetName(), action, c.GetState().String(), CertificateActions(c.GetState())...)
}
