/**
 * The public pages' words, in French (the default) and English (`?lang=en`). Every key of the
 * French catalogue must exist in English: the type says so, and a test checks both ways.
 */
export const fr = {
  'app.title': 'Plaintes du Registre Social Unifié',
  'app.brand': 'RSU · Plaintes',
  'app.subtitle': 'Programme national de protection sociale — Mali',
  'app.switchLanguage': 'English',
  'app.staff': 'Espace agents',
  'app.home': 'Accueil',
  'home.intro':
    'Vous pensez avoir été oublié, vous n’avez pas reçu un paiement, vos informations sont fausses ou vous voulez signaler un abus ? Déposez une plainte : elle sera examinée par les agents de votre commune.',
  'home.submit': 'Déposer une plainte',
  'home.submitHint': 'Sans compte. Vous pouvez rester anonyme.',
  'home.track': 'Suivre une plainte',
  'home.trackHint': 'Avec la référence et le code PIN reçus au dépôt.',
  'home.free': 'Le dépôt et le suivi d’une plainte sont gratuits.',
  'home.privacy':
    'Vos informations ne servent qu’au traitement de votre plainte. Les plaintes pour abus ou violences sont traitées par des personnes désignées uniquement.',
  'submit.title': 'Déposer une plainte',
  'submit.intro': 'Les champs marqués * sont obligatoires.',
  'submit.loading': 'Chargement du formulaire…',
  'submit.category': 'Sujet de la plainte',
  'submit.categoryUnknown': 'Je ne sais pas',
  'submit.commune': 'Votre commune *',
  'submit.communeChoose': 'Choisissez votre commune',
  'submit.narrative': 'Décrivez votre plainte *',
  'submit.narrativeHint':
    'Ce qui s’est passé, quand, et ce que vous demandez. N’écrivez pas de mot de passe ni de code.',
  'submit.anonymous': 'Je veux rester anonyme (aucun moyen de vous recontacter)',
  'submit.contact': 'Pour vous tenir informé (facultatif)',
  'submit.email': 'Adresse e-mail',
  'submit.phone': 'Numéro de téléphone',
  'submit.phoneHint': 'Par exemple +223 70 00 00 00',
  'submit.send': 'Envoyer la plainte',
  'submit.sending': 'Envoi en cours…',
  'submit.errorsTitle': 'La plainte n’a pas été envoyée :',
  'confirm.title': 'Votre plainte a été enregistrée',
  'confirm.reference': 'Référence',
  'confirm.pin': 'Code PIN',
  'confirm.keep':
    'Notez la référence et le code PIN maintenant : le code PIN ne sera plus jamais affiché. Ils vous permettent de suivre votre plainte.',
  'confirm.ack': 'Un accusé de réception vous a été envoyé.',
  'confirm.track': 'Suivre cette plainte',
  'confirm.another': 'Déposer une autre plainte',
  'track.title': 'Suivre une plainte',
  'track.intro': 'Saisissez la référence et le code PIN reçus au dépôt de votre plainte.',
  'track.reference': 'Référence *',
  'track.referenceHint': 'Par exemple PL-2026-AB3CD4',
  'track.pin': 'Code PIN (6 chiffres) *',
  'track.send': 'Voir l’état',
  'track.sending': 'Recherche…',
  'track.resultTitle': 'État de la plainte',
  'track.submittedAt': 'Déposée le',
  'track.updatedAt': 'Dernière mise à jour',
  'track.stages': 'Étapes',
  'track.current': '(étape actuelle)',
  'status.received': 'Reçue',
  'status.in_progress': 'En cours de traitement',
  'status.resolved': 'Décision prise',
  'status.closed': 'Clôturée',
  'error.commune': 'Choisissez votre commune.',
  'error.narrativeShort': 'Décrivez votre plainte en au moins 10 caractères.',
  'error.narrativeLong': 'La description ne doit pas dépasser 5000 caractères.',
  'error.email': 'Cette adresse e-mail n’est pas valide.',
  'error.phone': 'Ce numéro n’est pas valide (8 à 20 chiffres, + au début permis).',
  'error.reference': 'Saisissez la référence, par exemple PL-2026-AB3CD4.',
  'error.pin': 'Le code PIN compte exactement 6 chiffres.',
  'error.notFound':
    'Aucune plainte ne correspond à cette référence et à ce code PIN. Vérifiez-les et réessayez.',
  'error.tooMany':
    'Trop de tentatives. Réessayez dans {minutes} minute(s). Vos informations n’ont pas été perdues.',
  'error.invalid': 'Certaines informations ne sont pas valides. Corrigez-les et réessayez.',
  'error.unavailable':
    'Le service est momentanément indisponible. Réessayez dans quelques minutes.',
  'error.network':
    'Connexion impossible. Vérifiez votre connexion Internet et réessayez : vos informations sont conservées sur cette page.',
  'error.unexpected': 'Une erreur inattendue est survenue (code {code}). Réessayez plus tard.',
  'error.options': 'Impossible de charger la liste des communes. Rechargez la page.',
} as const

export type MessageKey = keyof typeof fr

export const en: Record<MessageKey, string> = {
  'app.title': 'Unified Social Registry grievances',
  'app.brand': 'RSU · Grievances',
  'app.subtitle': 'National social protection programme — Mali',
  'app.switchLanguage': 'Français',
  'app.staff': 'Staff area',
  'app.home': 'Home',
  'home.intro':
    'Do you think you were left out, did not receive a payment, have wrong information on record, or want to report abuse? Submit a grievance: the staff of your commune will review it.',
  'home.submit': 'Submit a grievance',
  'home.submitHint': 'No account needed. You may stay anonymous.',
  'home.track': 'Follow a grievance',
  'home.trackHint': 'With the reference and PIN you received when submitting.',
  'home.free': 'Submitting and following a grievance is free.',
  'home.privacy':
    'Your information is used only to handle your grievance. Grievances about abuse or violence are handled by designated people only.',
  'submit.title': 'Submit a grievance',
  'submit.intro': 'Fields marked * are required.',
  'submit.loading': 'Loading the form…',
  'submit.category': 'Subject of the grievance',
  'submit.categoryUnknown': 'I don’t know',
  'submit.commune': 'Your commune *',
  'submit.communeChoose': 'Choose your commune',
  'submit.narrative': 'Describe your grievance *',
  'submit.narrativeHint':
    'What happened, when, and what you are asking for. Do not write any password or code.',
  'submit.anonymous': 'I want to stay anonymous (no way to contact you back)',
  'submit.contact': 'To keep you informed (optional)',
  'submit.email': 'Email address',
  'submit.phone': 'Phone number',
  'submit.phoneHint': 'For example +223 70 00 00 00',
  'submit.send': 'Send the grievance',
  'submit.sending': 'Sending…',
  'submit.errorsTitle': 'The grievance was not sent:',
  'confirm.title': 'Your grievance has been registered',
  'confirm.reference': 'Reference',
  'confirm.pin': 'PIN',
  'confirm.keep':
    'Write down the reference and the PIN now: the PIN will never be shown again. You need both to follow your grievance.',
  'confirm.ack': 'An acknowledgement has been sent to you.',
  'confirm.track': 'Follow this grievance',
  'confirm.another': 'Submit another grievance',
  'track.title': 'Follow a grievance',
  'track.intro': 'Enter the reference and the PIN you received when you submitted your grievance.',
  'track.reference': 'Reference *',
  'track.referenceHint': 'For example PL-2026-AB3CD4',
  'track.pin': 'PIN (6 digits) *',
  'track.send': 'Show the status',
  'track.sending': 'Searching…',
  'track.resultTitle': 'Status of grievance',
  'track.submittedAt': 'Submitted on',
  'track.updatedAt': 'Last updated',
  'track.stages': 'Stages',
  'track.current': '(current stage)',
  'status.received': 'Received',
  'status.in_progress': 'Being handled',
  'status.resolved': 'Decision taken',
  'status.closed': 'Closed',
  'error.commune': 'Choose your commune.',
  'error.narrativeShort': 'Describe your grievance in at least 10 characters.',
  'error.narrativeLong': 'The description must not exceed 5000 characters.',
  'error.email': 'This email address is not valid.',
  'error.phone': 'This number is not valid (8 to 20 digits, a leading + is allowed).',
  'error.reference': 'Enter the reference, for example PL-2026-AB3CD4.',
  'error.pin': 'The PIN has exactly 6 digits.',
  'error.notFound': 'No grievance matches this reference and PIN. Check them and try again.',
  'error.tooMany':
    'Too many attempts. Try again in {minutes} minute(s). Your information has not been lost.',
  'error.invalid': 'Some information is not valid. Correct it and try again.',
  'error.unavailable': 'The service is temporarily unavailable. Try again in a few minutes.',
  'error.network':
    'Could not connect. Check your Internet connection and try again: your information is kept on this page.',
  'error.unexpected': 'An unexpected error occurred (code {code}). Try again later.',
  'error.options': 'Could not load the list of communes. Reload the page.',
}

export const catalogues = { fr, en } as const
export type Lang = keyof typeof catalogues

/** The language asked for in the address (`?lang=en`), French otherwise. */
export function langFrom(search: string): Lang {
  return new URLSearchParams(search).get('lang') === 'en' ? 'en' : 'fr'
}

/** A translator for `lang`: `t('error.tooMany', { minutes: 3 })`. */
export function translator(lang: Lang) {
  const catalogue: Record<MessageKey, string> = catalogues[lang]
  return (key: MessageKey, vars: Record<string, string | number> = {}) =>
    catalogue[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      name in vars ? String(vars[name]) : whole,
    )
}

export type Translate = ReturnType<typeof translator>
