"""Every function of the suite that calls ``sudo()``, and the test that shows it safe.

Keys are ``addon/path.py::Class.method`` (as ``tests/test_abuse.py`` finds them); values
name a test, ``path/from/the/repository/root.py::Class::test_name``, that runs the code
as the user the ``sudo()`` acts for and shows that this user gets no more than their due.
``tests/test_abuse.py::test_every_sudo_has_a_proof`` fails when a ``sudo()`` is missing
here, when an entry no longer calls ``sudo()``, or when a named test does not exist.
"""

SUDO_PROOFS = {
    # every job's batch size: a user calling it gets a number or the default, never the parameter's text
    "suite_batch_job/batch.py::batch_size": (
        "addons/suite_batch_job/tests/test_batch.py::TestBatchSize::test_a_user_gets_a_number_or_the_default_never_the_text"
    ),
    # an invoicing user who may read none of the orders gets what this company's orders of this customer
    # still have to invoice, not the orders; a salesperson gets no total
    "crm_customer_360/models/res_partner.py::ResPartner._c360_accounting": (
        "addons/crm_customer_360/tests/test_sudo_safety.py::TestSudoSafety::test_an_invoicing_user_reads_what_is_left_to_invoice_without_the_orders"
    ),
    # a salesperson's measure uses the threshold they may not read (get_param refused)
    "crm_customer_360/models/res_partner.py::ResPartner._c360_health_threshold": (
        "addons/crm_customer_360/tests/test_sudo_safety.py::TestSudoSafety::test_a_salesperson_measuring_a_customer_alerts_its_account_manager_only"
    ),
    # a salesperson's press gives the account manager one retention activity, never two;
    # an agent who may not change the customer is refused
    "crm_customer_360/models/res_partner.py::ResPartner._c360_retention_activities": (
        "addons/crm_customer_360/tests/test_sudo_safety.py::TestSudoSafety::test_a_salesperson_measuring_a_customer_alerts_its_account_manager_only"
    ),
    # the nightly job measures every company; each company's users read only their company's health
    "crm_customer_360/models/res_partner.py::ResPartner._cron_c360_health": (
        "addons/crm_customer_360/tests/test_health.py::TestCustomerHealth::test_each_company_measures_its_customer_from_its_own_documents"
    ),
    # an agent without sales rights reads the order's reference on the ticket, no sales figure, no delivery
    "crm_customer_360/models/support_ticket.py::SupportTicket._c360_contexts": (
        "addons/crm_customer_360/tests/test_ticket_order.py::TestTicketOrder::test_a_support_agent_without_sales_rights_gets_the_link"
    ),
    # an agent quoting orders links only the ticket's customer's one and still reads none of them
    "crm_customer_360/models/support_ticket.py::SupportTicket._c360_link_orders": (
        "addons/crm_customer_360/tests/test_sudo_safety.py::TestSudoSafety::test_an_agent_quoting_orders_links_only_their_customers_and_reads_none"
    ),
    # a salesperson reads the explanation without the amounts kept for accounting, and not the stored factors
    "crm_lead_scoring/models/crm_lead.py::CrmLead._compute_score_explanation_html": (
        "addons/crm_customer_360/tests/test_scoring_facts.py::TestScoringFacts::test_the_amounts_of_the_explanation_are_for_the_accounting_only"
    ),
    # private: no user's RPC reaches the training data; Train Now refused to salespeople
    "crm_lead_scoring/models/crm_lead.py::CrmLead._scoring_closed_lead_ids": (
        "addons/crm_lead_scoring/tests/test_sudo_safety.py::TestSudoSafetyJobs::test_the_training_and_rescoring_jobs_are_beyond_a_salespersons_reach"
    ),
    # filled first by a salesperson of one company, the cache still lets another company's score drive its probability
    "crm_lead_scoring/models/crm_lead.py::CrmLead._scoring_driving_company_ids": (
        "addons/crm_lead_scoring/tests/test_sudo_safety.py::TestSudoSafetyCaches::test_the_caches_a_salesperson_fills_cover_every_company"
    ),
    # a salesperson's edit fires the manager's threshold on their lead only, and the handover leaves them no access
    "crm_lead_scoring/models/crm_lead.py::CrmLead._scoring_fire_thresholds": (
        "addons/crm_lead_scoring/tests/test_sudo_safety.py::TestSudoSafetyJobs::test_a_threshold_crossed_by_a_salesperson_edit_runs_only_the_configured_actions"
    ),
    # the explanation names the source as the lead's own field shows it to the salesperson
    "crm_lead_scoring/models/crm_lead.py::CrmLead._scoring_names": (
        "addons/crm_lead_scoring/tests/test_sudo_safety.py::TestSudoSafetyScoring::test_a_salesperson_edit_rescores_their_own_lead_with_the_managers_configuration"
    ),
    # a salesperson's edit is scored by the company's model, which they only read
    "crm_lead_scoring/models/crm_lead.py::CrmLead._scoring_predictors": (
        "addons/crm_lead_scoring/tests/test_sudo_safety.py::TestSudoSafetyScoring::test_a_salesperson_edit_rescores_their_own_lead_with_the_managers_configuration"
    ),
    # a salesperson's edit rescores their lead, not the other salesperson's (refused to them)
    "crm_lead_scoring/models/crm_lead.py::CrmLead._scoring_rescore": (
        "addons/crm_lead_scoring/tests/test_sudo_safety.py::TestSudoSafetyScoring::test_a_salesperson_edit_rescores_their_own_lead_with_the_managers_configuration"
    ),
    # a salesperson's edit applies this company's rules, never another company's
    "crm_lead_scoring/models/crm_lead.py::CrmLead._scoring_rule_results": (
        "addons/crm_lead_scoring/tests/test_sudo_safety.py::TestSudoSafetyScoring::test_a_salesperson_edit_rescores_their_own_lead_with_the_managers_configuration"
    ),
    # filled first by a salesperson of one company, the cache still holds another company's rule fields
    # the learned fields of every company, read with the facts: configuration, the same for every user
    "crm_lead_scoring/models/crm_lead.py::CrmLead._scoring_scalar_field_names": (
        "addons/crm_lead_scoring/tests/test_sudo_safety.py::TestSudoSafetyCaches::test_the_caches_a_salesperson_fills_cover_every_company"
    ),
    "crm_lead_scoring/models/crm_lead.py::CrmLead._scoring_trigger_fields_cached": (
        "addons/crm_lead_scoring/tests/test_sudo_safety.py::TestSudoSafetyCaches::test_the_caches_a_salesperson_fills_cover_every_company"
    ),
    # private: the training job is no user's RPC; Train Now refused to salespeople
    "crm_lead_scoring/models/crm_lead_scoring_model.py::CrmLeadScoringModel._cron_train": (
        "addons/crm_lead_scoring/tests/test_sudo_safety.py::TestSudoSafetyJobs::test_the_training_and_rescoring_jobs_are_beyond_a_salespersons_reach"
    ),
    # a sales manager's Train Now is told only that there is not enough history
    "crm_lead_scoring/models/crm_lead_scoring_model.py::CrmLeadScoringModel._has_enough_history": (
        "addons/crm_lead_scoring/tests/test_sudo_safety.py::TestSudoSafetyJobs::test_the_training_and_rescoring_jobs_are_beyond_a_salespersons_reach"
    ),
    # a salesperson's confirmation reads the customer's receivable to check it, and gets only the finding
    "sale_quote_to_cash/models/sale_order.py::SaleOrder._q2c_check_credit": (
        "addons/sale_quote_to_cash/tests/test_walkarounds.py::TestQuoteToCashNoWalkAround::test_a_queued_order_is_checked_before_a_salesperson_confirms_it"
    ),
    # a customer's online payment runs the checks in its transaction: held orders stay quotations
    "sale_quote_to_cash/models/sale_order.py::SaleOrder._q2c_confirm_now": (
        "addons/sale_quote_to_cash/tests/test_payments.py::TestQuoteToCashOnlinePayments::test_paid_on_the_portal_held_by_its_checks"
    ),
    # the uninstall confirms only what the checks let through, and hands the rest to a person
    "sale_quote_to_cash/models/sale_order.py::SaleOrder._q2c_hand_over": (
        "addons/sale_quote_to_cash/tests/test_uninstall.py::TestQuoteToCashUninstall::test_what_the_checks_hold_or_a_person_confirms_gets_a_to_do"
    ),
    # the history is written for the people who move an order; none of them may edit it
    "sale_quote_to_cash/models/sale_order.py::SaleOrder._q2c_log_many": (
        "addons/sale_quote_to_cash/tests/test_security.py::TestQuoteToCashSecurity::test_nobody_edits_the_history"
    ),
    # a storekeeper's delivery wakes the chain, and they still read none of its fields
    "sale_quote_to_cash/models/sale_order.py::SaleOrder._q2c_on_documents_moved": (
        "addons/sale_quote_to_cash/tests/test_security.py::TestQuoteToCashSecurity::test_a_warehouse_user_validates_the_delivery_and_moves_the_chain_on"
    ),
    # the runner's history is read by a salesperson for their own orders only
    "sale_quote_to_cash/models/sale_order.py::SaleOrder._q2c_record": (
        "addons/sale_quote_to_cash/tests/test_security.py::TestQuoteToCashSecurity::test_salesperson_reads_the_history_of_own_orders_only"
    ),
    # the runner's confirmation needs the superuser: a client's forged runner context is refused
    "sale_quote_to_cash/models/sale_order.py::SaleOrder._q2c_step_confirm": (
        "addons/sale_quote_to_cash/tests/test_walkarounds.py::TestQuoteToCashNoWalkAround::test_a_forged_runner_context_is_not_the_runner"
    ),
    # a cashier who may read none of the orders queues the paying orders of the payment's customer
    # only; they read nothing from them and still write none of the chain's fields
    "sale_quote_to_cash/models/sale_order.py::SaleOrder._q2c_on_payments_posted": (
        "addons/sale_quote_to_cash/tests/test_security.py::TestQuoteToCashSecurity::test_a_cashier_posting_a_transfer_wakes_the_customers_orders_without_reading_them"
    ),
    # a salesperson wakes the runner; the runner still holds what the checks hold
    "sale_quote_to_cash/models/sale_order.py::SaleOrder._q2c_trigger": (
        "addons/sale_quote_to_cash/tests/test_walkarounds.py::TestQuoteToCashNoWalkAround::test_a_salesperson_confirms_once_the_checks_pass"
    ),
    # the chain's fields are refused to a salesperson; only the addon's own actions write them
    "sale_quote_to_cash/models/sale_order.py::SaleOrder._q2c_write": (
        "addons/sale_quote_to_cash/tests/test_walkarounds.py::TestQuoteToCashNoWalkAround::test_a_salesperson_cannot_write_the_chain_state"
    ),
    # a salesperson's change of profile is refused before the approval could be voided
    "sale_quote_to_cash/models/sale_order.py::SaleOrder.write": (
        "addons/sale_quote_to_cash/tests/test_walkarounds.py::TestQuoteToCashNoWalkAround::test_a_salesperson_cannot_switch_the_profile_then_retry"
    ),
    # the gateway run by an agent drops auto-replies and our own address's mail
    "support_desk/models/mail_thread.py::MailThread._support_automatic_reason": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafetyGateway::test_the_gateway_run_by_an_agent_lets_no_stranger_in"
    ),
    # an agent's ticket gets this company's policy, never another company's
    "support_desk/models/support_sla.py::SupportSla._match": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafety::test_an_agent_opening_and_editing_a_ticket_runs_the_clocks_without_their_rights"
    ),
    # an agent's ticket skips the colleague on leave; the leave stays unreadable to the agent
    "support_desk/models/support_team.py::SupportTeam._assignable_users": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafety::test_an_agent_opening_tickets_moves_the_rotation_without_team_rights"
    ),
    # an agent's tickets move the rotation; the agent still may not write the team
    "support_desk/models/support_team.py::SupportTeam._choose_assignees": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafety::test_an_agent_opening_tickets_moves_the_rotation_without_team_rights"
    ),
    # a closure by a working-hours administrator moves deadlines of tickets they may not read
    "support_desk/models/support_team.py::SupportTeam._sla_refit_for_calendars": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafety::test_a_closure_moves_the_deadlines_of_tickets_its_author_cannot_see"
    ),
    # a closure by a working-hours administrator moves deadlines of tickets they may not read
    "support_desk/models/support_team.py::SupportTeam._sla_refit_running": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafety::test_a_closure_moves_the_deadlines_of_tickets_its_author_cannot_see"
    ),
    # an agent's internal note, even naming the customer, reaches no customer
    "support_desk/models/support_ticket.py::SupportTicket._notify_get_recipients": (
        "addons/support_desk/tests/test_mail_gateway.py::TestMailTrust::test_internal_note_never_reaches_the_customer"
    ),
    # a portal form's extra fields choose no customer, team, assignee or priority; no right to create directly
    "support_desk/models/support_ticket.py::SupportTicket._portal_create_ticket": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafetyPortal::test_a_customer_opens_a_ticket_for_themselves_only"
    ),
    # an agent's reply and closing remove their ticket's warning only
    "support_desk/models/support_ticket.py::SupportTicket._sla_clear_warnings": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafety::test_an_agents_reply_close_and_reopen_clear_only_their_tickets_warnings"
    ),
    # a portal reply brings the ticket back and starts a clock, meets no reply target; the lines stay unreadable
    "support_desk/models/support_ticket.py::SupportTicket._sla_on_message": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafetyPortal::test_a_customer_reply_in_the_portal_chatter_restarts_the_clock_and_meets_no_target"
    ),
    # an agent's ticket gets its clocks; the agent may not create, write or unlink any
    "support_desk/models/support_ticket.py::SupportTicket._sla_open_lines": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafety::test_an_agent_opening_and_editing_a_ticket_runs_the_clocks_without_their_rights"
    ),
    # an agent's change of priority and team refits the clocks; another ticket's stay untouched
    "support_desk/models/support_ticket.py::SupportTicket._sla_refit": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafety::test_an_agent_opening_and_editing_a_ticket_runs_the_clocks_without_their_rights"
    ),
    # an agent's ticket moved to another team keeps its policy and leaves the agent's reach
    "support_desk/models/support_ticket.py::SupportTicket._sla_set_policies": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafety::test_an_agent_opening_and_editing_a_ticket_runs_the_clocks_without_their_rights"
    ),
    # an agent's close and reopen stop the clocks and open a new cycle; the lines stay read-only to them
    "support_desk/models/support_ticket.py::SupportTicket._sla_stage_changed": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafety::test_an_agents_reply_close_and_reopen_clear_only_their_tickets_warnings"
    ),
    # private, the 1.2 migration's: no user's RPC reaches it (the upgrade itself: TestSlaUpgrade)
    "support_desk/models/support_ticket.py::SupportTicket._sla_start_existing": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafety::test_the_engine_jobs_cannot_be_called_remotely"
    ),
    # the gateway run by an agent: a stranger quoting a ticket's reference opens their own ticket
    "support_desk/models/support_ticket.py::SupportTicket._support_join_refusal": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafetyGateway::test_the_gateway_run_by_an_agent_lets_no_stranger_in"
    ),
    # an agent's change of priority measures the clocks the agent may only read
    "support_desk/models/support_ticket.py::SupportTicket.write": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafety::test_an_agent_opening_and_editing_a_ticket_runs_the_clocks_without_their_rights"
    ),
    # an agent's ticket gets its warning dates from settings the agent may not read
    "support_desk/models/support_ticket_sla.py::SupportTicketSla._warning_settings": (
        "addons/support_desk/tests/test_sudo_safety.py::TestSudoSafety::test_an_agent_opening_and_editing_a_ticket_runs_the_clocks_without_their_rights"
    ),
}
