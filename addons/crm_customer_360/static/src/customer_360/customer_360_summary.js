import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/**
 * The customer's summary on the partner, opportunity and ticket forms: one tile per figure,
 * each opening its list. Compact on a phone (two tiles a row).
 */
export class Customer360Summary extends Component {
    static template = "crm_customer_360.Customer360Summary";
    static props = { ...standardFieldProps };

    setup() {
        this.action = useService("action");
        this.orm = useService("orm");
    }

    get summary() {
        return this.props.record.data[this.props.name] || false;
    }

    get tiles() {
        const s = this.summary;
        const tiles = [
            {
                kind: "opportunities",
                label: _t("Opportunities"),
                value: s.opportunities,
                detail: s.pipeline_text,
            },
            { kind: "quotations", label: _t("Quotations"), value: s.quotations, detail: s.quotations_amount_text },
            { kind: "orders", label: _t("Orders"), value: s.orders, detail: s.orders_amount_text },
            {
                kind: s.deliveries_late ? "deliveries_late" : "deliveries",
                label: _t("Deliveries"),
                value: s.deliveries,
                detail: s.deliveries_late ? _t("%s late", s.deliveries_late) : "",
                alert: s.deliveries_late > 0,
            },
        ];
        if (s.accounting) {
            tiles.push({
                kind: s.invoices_overdue ? "invoices_overdue" : "invoices",
                label: _t("Open invoices"),
                value: s.invoices_open_text,
                detail: s.invoices_overdue ? _t("%s overdue", s.invoices_overdue_text) : "",
                alert: s.invoices_overdue > 0,
            });
            tiles.push({
                kind: "invoices",
                label: _t("Credit used"),
                value: s.credit_used_text,
                detail: s.credit_limit ? _t("%s of the limit of %s", `${s.credit_share}%`, s.credit_limit_text) : _t("no limit"),
                alert: s.credit_limit > 0 && s.credit_share >= 100,
            });
        }
        tiles.push({
            kind: s.tickets_failed ? "tickets_failed" : "tickets",
            label: _t("Open tickets"),
            value: s.tickets,
            detail: s.tickets_failed ? _t("%s SLA failed", s.tickets_failed) : "",
            alert: s.tickets_failed > 0,
        });
        tiles.push({ kind: "opportunities", label: _t("Lead score"), value: s.score, detail: "" });
        tiles.push({
            kind: "health",
            label: _t("Health"),
            value: s.health === false ? "–" : s.health,
            detail: s.churn_risk ? _t("Churn risk") : s.health_trend === "up" ? _t("Buying more") : "",
            alert: s.churn_risk,
            title: s.health_reasons,
        });
        return tiles;
    }

    async open(kind) {
        const record = this.props.record;
        if (record.isNew || record.dirty) {
            await record.save();
        }
        const action = await this.orm.call(record.resModel, "action_c360_open", [[record.resId], kind]);
        await this.action.doAction(action);
    }

    async openDelivery(pickingId) {
        await this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "stock.picking",
            res_id: pickingId,
            views: [[false, "form"]],
            target: "current",
        });
    }
}

export const customer360Summary = {
    component: Customer360Summary,
    supportedTypes: ["json"],
};

registry.category("fields").add("customer_360_summary", customer360Summary);
